import { createReadStream, statSync } from 'node:fs';

export interface Line {
  text: string;
  /** 1-based line number. */
  line: number;
  /** Bytes read so far (for progress). */
  bytes: number;
}

/**
 * Streams the lines of a file (or stdin for '-') without loading it, in 1 MiB chunks: one
 * array of lines per chunk (an await per line cost as much as parsing the line).
 */
export async function* readLineChunks(path: string): AsyncGenerator<Line[]> {
  const input = path === '-' ? process.stdin : createReadStream(path, { highWaterMark: 1 << 20 });
  let rest: Buffer | null = null;
  let line = 0;
  let bytes = 0;
  for await (const chunk of input as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    const buf: Buffer = rest ? Buffer.concat([rest, chunk]) : chunk;
    const out: Line[] = [];
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(10, start);
      if (nl < 0) break;
      line++;
      const end = nl > start && buf[nl - 1] === 13 ? nl - 1 : nl;
      out.push({ text: buf.toString('utf8', start, end), line, bytes });
      start = nl + 1;
    }
    rest = start < buf.length ? buf.subarray(start) : null;
    if (out.length) yield out;
  }
  if (rest && rest.length) yield [{ text: rest.toString('utf8'), line: line + 1, bytes }];
}

/** Line by line (for inputs where the await per line does not matter). */
export async function* readLines(path: string): AsyncGenerator<Line> {
  for await (const chunk of readLineChunks(path)) yield* chunk;
}

export function sizeOf(path: string): number | undefined {
  if (path === '-') return undefined;
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}
