// Preloaded into a measured node process (node --import): when it exits, writes its peak RSS as the
// kernel counts it for the whole process (ru_maxrss, kB; DuckDB's memory and the worker threads
// included) to the file named by KEYTRAIL_PEAK_RSS_FILE. Exact, where polling /proc can miss a
// peak between two looks.

import { writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const file = process.env.KEYTRAIL_PEAK_RSS_FILE;
if (file && isMainThread) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
