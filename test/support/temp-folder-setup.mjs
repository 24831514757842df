// jest's globalSetup: see temp-folder.mjs.
export { makeRunTempFolder as default } from './temp-folder.mjs';
