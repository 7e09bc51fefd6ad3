// The backplane contract against the single-process, in-memory backplane.

import { MemoryBackplane } from '../../src/cluster/memory-backplane.js';
import { backplaneContract } from './backplane-contract.js';

backplaneContract({
  name: 'MemoryBackplane',
  manyProcesses: false,
  fixture: async () => ({ newProcess: async () => new MemoryBackplane() }),
});
