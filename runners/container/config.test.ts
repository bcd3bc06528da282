import { describe, expect, it } from 'vitest';
import type { RunnerStartRequest } from '../../core/index.ts';
import { containerNetworkMode, type ContainerRunnerConfig } from './config.ts';

const config: ContainerRunnerConfig = {
  socketPath: '/s',
  defaultImage: 'busybox',
  resourceClasses: { small: {} },
};
const request = { trust: 'trusted' } as RunnerStartRequest;

describe('containerNetworkMode (the same rule as every runner: core resolveNetwork)', () => {
  it('gives trusted attempts the network (bridge, or the operator mode)', () => {
    expect(containerNetworkMode(request, config)).toBe('bridge');
    expect(containerNetworkMode(request, { ...config, network: 'host-gateway' })).toBe('host-gateway');
  });
  it('gives untrusted attempts, and those without a trust, none', () => {
    expect(containerNetworkMode({ ...request, trust: 'untrusted' }, config)).toBe('none');
    expect(containerNetworkMode({} as RunnerStartRequest, { ...config, network: 'bridge' })).toBe('none');
  });
  it('lets a task (network: none) or the config (network: none) narrow a trusted attempt', () => {
    expect(containerNetworkMode({ ...request, network: 'none' }, config)).toBe('none');
    expect(containerNetworkMode(request, { ...config, network: 'none' })).toBe('none');
  });
});
