export { initNetwork } from "./commands/init.js";
export { buildProgram, main } from "./main.js";
