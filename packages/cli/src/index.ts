export {
  type InitOptions,
  type InitResult,
  initNetwork,
  type NetworkFile,
  type NetworkNode,
  type NodeRole,
  readNetwork,
} from "./commands/init.js";
export { type DevnetOptions, runDevnet } from "./commands/node.js";
export { buildProgram, main } from "./main.js";
