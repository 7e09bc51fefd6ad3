// `node server.js [options]` from a checkout starts the server, as `npm start`
// and the installed `sigver` command do (the original Sigver's "How to use").
// It runs the built command in this process: signals reach it directly.
import { existsSync } from 'node:fs';

const main = new URL('./dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('sigver: dist/ is not built yet: run `npm ci` (it builds) or `npm run build` first\n');
  process.exit(1);
}
await import(main.href);
