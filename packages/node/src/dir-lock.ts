/**
 * One process per data directory: two block producers on one database would sign conflicting blocks.
 * The lock file holds the owner's pid; a lock left by a killed process (pid gone) is taken over.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { TallyError } from "@tally/core";

export interface DirLock {
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function acquireDirLock(dir: string): DirLock {
  const path = join(dir, "LOCK");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return { release: () => rmSync(path, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const owner = Number.parseInt(readFileSync(path, "utf8"), 10);
      if (Number.isInteger(owner) && owner !== process.pid && alive(owner)) {
        throw new TallyError("FORBIDDEN", `data directory ${dir} is in use by process ${owner}`);
      }
      rmSync(path, { force: true });
    }
  }
  throw new TallyError("FORBIDDEN", `cannot lock data directory ${dir}`);
}
