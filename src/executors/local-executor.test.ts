import { describeExecutorContract } from './executor.contract.js';
import { createLocalExecutor } from './local-executor.js';

describeExecutorContract('local', { create: async () => createLocalExecutor({ workers: 2, memoryLimitBytes: 64 * 1024 * 1024, gitAllowFile: true }), git: true, luaProfile: true });
