// The Azure Blob container client of one blob task (provider: azure). The credential comes
// only from secrets passed in env:: AZURE_STORAGE_KEY with AZURE_STORAGE_ACCOUNT (Shared Key),
// or AZURE_STORAGE_SAS_TOKEN (a SAS, appended to the URL the client signs nothing with). The
// names are the Azure CLI's. A connection string is not taken: its key would have to be parsed
// out of one string anyway, and one credential form per secret keeps the redaction exact.
// `endpoint` is the account's blob service URL (default https://<account>.blob.core.windows.net;
// Azurite's is http://127.0.0.1:10000/<account>), checked by endpoint.ts.
import { AnonymousCredential, ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { secretIfGiven, TaskError, type TaskContext } from '../../sdk/index.ts';
import { endpointUrl } from './endpoint.ts';

export function azureContainerFor(
  inputs: { endpoint?: string; bucket: string },
  ctx: Pick<TaskContext, 'secret'>,
): ContainerClient {
  const account = secretIfGiven(ctx, 'AZURE_STORAGE_ACCOUNT');
  const key = secretIfGiven(ctx, 'AZURE_STORAGE_KEY');
  const sas = secretIfGiven(ctx, 'AZURE_STORAGE_SAS_TOKEN');
  if (inputs.endpoint === undefined && account === undefined)
    throw new TaskError('blob_endpoint_invalid', 'provider azure needs /endpoint or AZURE_STORAGE_ACCOUNT', {
      hint: 'give endpoint (the account’s blob URL) in with:, or AZURE_STORAGE_ACCOUNT in env:',
    });
  const base = endpointUrl(inputs.endpoint ?? `https://${account}.blob.core.windows.net`, 'azure');
  const url = new URL(`${base.href.replace(/\/+$/, '')}/${encodeURIComponent(inputs.bucket)}`);
  const retryOptions = { maxTries: 3 };
  if (key !== undefined) {
    if (account === undefined)
      throw new TaskError('secret_missing', 'AZURE_STORAGE_KEY needs AZURE_STORAGE_ACCOUNT', {
        hint: 'pass the storage account’s name as AZURE_STORAGE_ACCOUNT in env:',
      });
    return new ContainerClient(url.href, new StorageSharedKeyCredential(account, key), { retryOptions });
  }
  if (sas !== undefined) {
    url.search = sas.replace(/^\?/, '');
    return new ContainerClient(url.href, new AnonymousCredential(), { retryOptions });
  }
  throw new TaskError('secret_missing', 'provider azure needs a credential in env:', {
    hint: 'pass AZURE_STORAGE_KEY (with AZURE_STORAGE_ACCOUNT) or AZURE_STORAGE_SAS_TOKEN as secrets in env:',
  });
}
