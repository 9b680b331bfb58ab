// A decode worker that dies (as a worker out of memory or hit by a native fault would) whenever it
// is handed a file whose name contains "poison"; otherwise the real worker. Imports run in order:
// the listener that dies is registered before the real worker's own.

import './crash-on-poison.js';
import '../../src/decode/worker.js';
