/**
 * tasks/blob with provider azure through `maestro run` (local runner, sandboxed, signed receipts)
 * against a real Azurite that checks every Shared Key and SAS signature: a put with the account
 * key, then a list and a get with a SAS token, each a secret passed in env:. To give the
 * redaction something to catch, a second put names its blob after the account key itself, so the
 * key is in that task's stored inputs and log line, and in the list task's `keys` output. The
 * attack: neither the key nor the SAS (nor its signature) may appear in any file of the data dir
 * (logs, stored inputs, outputs, receipts).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AccountSASPermissions,
  AccountSASResourceTypes,
  AccountSASServices,
  ContainerClient,
  generateAccountSASQueryParameters,
  StorageSharedKeyCredential,
} from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCaptured } from './cli-helpers.ts';
import { tempDir } from './helpers/engine-fixtures.ts';
import { filesHolding } from './helpers/find-secret.ts';
import { startAzurite, type Azurite } from './setup/azurite.ts';

const REPORT = 'region,total\nnorth,12\nsouth,30\n';
const workflow = (endpoint: string) => `apiVersion: maestro/v1
kind: Workflow
metadata: { name: azure-report, namespace: demo }
spec:
  defaults: { runner: local, timeout: 60s }
  tasks:
    - id: upload
      uses: tasks/blob@1
      env: { AZURE_STORAGE_ACCOUNT: "\${secrets.AZ_ACCOUNT}", AZURE_STORAGE_KEY: "\${secrets.AZ_KEY}" }
      with: { provider: azure, operation: put, bucket: reports, key: daily/report.csv, file: data/report.csv, endpoint: "${endpoint}" }
    - id: plant
      uses: tasks/blob@1
      env: { AZURE_STORAGE_ACCOUNT: "\${secrets.AZ_ACCOUNT}", AZURE_STORAGE_KEY: "\${secrets.AZ_KEY}" }
      with: { provider: azure, operation: put, bucket: reports, key: "leak/\${secrets.AZ_KEY}", file: data/report.csv, endpoint: "${endpoint}" }
    - id: listing
      needs: [upload, plant]
      uses: tasks/blob@1
      env: { AZURE_STORAGE_SAS_TOKEN: "\${secrets.AZ_SAS}" }
      with: { provider: azure, operation: list, bucket: reports, endpoint: "${endpoint}" }
    - id: fetch
      needs: [upload]
      uses: tasks/blob@1
      env: { AZURE_STORAGE_SAS_TOKEN: "\${secrets.AZ_SAS}" }
      with: { provider: azure, operation: get, bucket: reports, key: daily/report.csv, file: out/report.csv, endpoint: "${endpoint}" }
`;

let azurite: Azurite;
let container: ContainerClient;
let sas: string;
let dir: string;

beforeAll(async () => {
  azurite = await startAzurite();
  const credential = new StorageSharedKeyCredential(azurite.account, azurite.key);
  container = new ContainerClient(`${azurite.endpoint}/reports`, credential);
  await container.create();
  sas = generateAccountSASQueryParameters(
    {
      permissions: AccountSASPermissions.parse('rl'),
      resourceTypes: AccountSASResourceTypes.parse('sco').toString(),
      services: AccountSASServices.parse('b').toString(),
      expiresOn: new Date(Date.now() + 3_600_000),
    },
    credential,
  ).toString();
  dir = tempDir('maestro-blob-azure-e2e-');
  mkdirSync(join(dir, '.maestro', 'workflows'), { recursive: true });
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'data', 'report.csv'), REPORT);
  writeFileSync(join(dir, '.maestro', 'workflows', 'azure.yaml'), workflow(azurite.endpoint));
}, 60_000);
afterAll(() => azurite?.stop());

describe('blob on Azure Blob Storage (maestro run, local runner, Azurite)', () => {
  it('puts with the key, lists and gets with a SAS; neither credential in any file of the data dir', async () => {
    const dataDir = join(dir, 'data-dir');
    const env = {
      PATH: process.env.PATH,
      HOME: dir,
      MAESTRO_SECRET_AZ_ACCOUNT: azurite.account,
      MAESTRO_SECRET_AZ_KEY: azurite.key,
      MAESTRO_SECRET_AZ_SAS: sas,
    };
    const run = await runCaptured(['run', '.maestro/workflows/azure.yaml', '--data-dir', dataDir], dir, env);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);

    // Azurite holds what the tasks put (signatures checked), the planted blob under the key's name.
    const stored = await container.getBlobClient('daily/report.csv').downloadToBuffer();
    expect(stored.toString()).toBe(REPORT);
    const names: string[] = [];
    for await (const item of container.listBlobsFlat()) names.push(item.name);
    expect(names.sort()).toEqual(['daily/report.csv', `leak/${azurite.key}`].sort());

    // The search does see what the run kept: the get's sha256 output, and `***` where the key was.
    const sha256 = createHash('sha256').update(REPORT).digest('hex');
    expect(filesHolding(dataDir, sha256).length).toBeGreaterThan(0);
    expect(filesHolding(dataDir, 'leak/***').length).toBeGreaterThan(0);
    const signature = new URLSearchParams(sas).get('sig')!;
    for (const secret of [azurite.key, sas, signature, encodeURIComponent(signature)])
      expect(filesHolding(dataDir, secret), 'a credential reached the data dir').toEqual([]);
    // Nor the run's own report on the terminal.
    for (const secret of [azurite.key, signature]) expect(`${run.stdout}${run.stderr}`).not.toContain(secret);
  }, 120_000);
});
