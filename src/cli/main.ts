#!/usr/bin/env node
// keytrail's entry point: the process around a command (src/cli/commands.ts).

import { main } from './commands.js';

// Who used which key, every encryption context: the database, its staging and WAL, exports and
// reports are the owner's alone (0600 files, 0700 folders), whatever umask the job runs under.
process.umask(0o077);
// The SDK's notice about future Node versions is not the user's concern on every run.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.exitCode = await main(process.argv.slice(2));
