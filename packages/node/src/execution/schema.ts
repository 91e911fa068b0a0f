/**
 * Argument schemas for module methods: small combinators that check a decoded `Value` and return it
 * typed, or throw TallyError BAD_ARGS naming the offending field. Also rendered into the OpenAPI doc.
 */
import { TallyError, type Value } from "@tally/core";

export interface Schema<T> {
  readonly description: string;
  parse(value: Value | undefined, path: string): T;
}

function badArgs(path: string, expected: string): never {
  throw new TallyError("BAD_ARGS", `${path || "args"} must be ${expected}`, { field: path || "args", expected });
}

export const s = {
  bytes(length?: number): Schema<Uint8Array> {
    const description = length === undefined ? "bytes" : `${length} bytes`;
    return {
      description,
      parse(v, path) {
        if (!(v instanceof Uint8Array) || (length !== undefined && v.length !== length)) badArgs(path, description);
        return v;
      },
    };
  },
  string(options: { maxLength: number; pattern?: RegExp }): Schema<string> {
    const description = `a string of at most ${options.maxLength} characters${options.pattern ? ` matching ${options.pattern}` : ""}`;
    return {
      description,
      parse(v, path) {
        if (typeof v !== "string" || v.length > options.maxLength || (options.pattern && !options.pattern.test(v))) {
          badArgs(path, description);
        }
        return v;
      },
    };
  },
  uint(): Schema<number> {
    return {
      description: "a non-negative integer",
      parse(v, path) {
        if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) badArgs(path, "a non-negative integer");
        return v;
      },
    };
  },
  array<T>(item: Schema<T>, maxItems: number): Schema<T[]> {
    const description = `an array of at most ${maxItems} items, each ${item.description}`;
    return {
      description,
      parse(v, path) {
        if (!Array.isArray(v) || v.length > maxItems) badArgs(path, description);
        return (v as Value[]).map((x, i) => item.parse(x, `${path}[${i}]`));
      },
    };
  },
  /** A map with string keys and string values (labels, metadata). */
  stringMap(maxEntries: number, maxLength: number): Schema<Record<string, string>> {
    const description = `a map of at most ${maxEntries} string entries of at most ${maxLength} characters`;
    return {
      description,
      parse(v, path) {
        if (v === null || typeof v !== "object" || Array.isArray(v) || v instanceof Uint8Array) badArgs(path, description);
        const entries = Object.entries(v as Record<string, Value>);
        if (entries.length > maxEntries) badArgs(path, description);
        for (const [k, x] of entries) {
          if (k.length > maxLength || typeof x !== "string" || x.length > maxLength) badArgs(path, description);
        }
        return v as Record<string, string>;
      },
    };
  },
  optional<T>(inner: Schema<T>): Schema<T | null> {
    return {
      description: `${inner.description} (optional)`,
      parse(v, path) {
        return v === undefined || v === null ? null : inner.parse(v, path);
      },
    };
  },
  object<T extends Record<string, unknown>>(fields: { [K in keyof T]: Schema<T[K]> }): Schema<T> {
    const names = Object.keys(fields);
    const description = `{ ${names.map((n) => `${n}: ${(fields as Record<string, Schema<unknown>>)[n]?.description}`).join("; ")} }`;
    return {
      description,
      parse(v, path) {
        if (v === null || typeof v !== "object" || Array.isArray(v) || v instanceof Uint8Array) badArgs(path, "a map");
        const record = v as Record<string, Value>;
        for (const key of Object.keys(record)) {
          if (!names.includes(key)) {
            const field = path ? `${path}.${key}` : key;
            throw new TallyError("BAD_ARGS", `unknown field ${field}`, { field });
          }
        }
        const out: Record<string, unknown> = {};
        for (const name of names) {
          out[name] = (fields as Record<string, Schema<unknown>>)[name]?.parse(record[name], path ? `${path}.${name}` : name);
        }
        return out as T;
      },
    };
  },
};
