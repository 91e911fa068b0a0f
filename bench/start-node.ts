/** `tally` from the TypeScript sources, for `npm run bench -- --source` (the bench otherwise runs the built bin). */
import { main } from "@tally/cli";

await main(process.argv);
