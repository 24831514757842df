// jest's globalTeardown: see temp-folder.mjs.
export { removeRunTempFolder as default } from './temp-folder.mjs';
