// Theme-check the extension given as argv[2]; prints one offense per line, exits 1 when there is any.
'use strict';
const { themeCheckRun } = require('@shopify/theme-check-node');

themeCheckRun(process.argv[2], undefined, () => {}).then((run) => {
  for (const o of run.offenses) {
    const where = o.uri.split('/').slice(-2).join('/');
    console.log(`${o.severity}\t${o.check}\t${where}:${o.start.line + 1}\t${o.message}`);
  }
  console.log(`theme-check: ${run.offenses.length} offenses`);
  process.exit(run.offenses.length ? 1 : 0);
}).catch((error) => {
  console.error('theme-check could not run:', error);
  process.exit(2);
});
