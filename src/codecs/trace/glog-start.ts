/**
 * When a TORCH_TRACE log began, as a text that sorts in time order: its first line's glog month,
 * day and time (`V1130 01:31:23.417000 640 …` gives `1130 01:31:23.417000`), or null where its
 * head holds no glog line. glog writes the host's local time with no year: logs of one folder
 * (one host) compare, across a new year they do not.
 */
export function glogStart(head: Buffer): string | null {
  const end = head.indexOf(10);
  const first = head.toString('latin1', 0, end < 0 ? Math.min(head.length, 256) : Math.min(end, 256));
  const m = /^[VIWEC](\d{4}) (\d\d:\d\d:\d\d(?:\.\d+)?) /.exec(first);
  return m ? `${m[1]} ${m[2].padEnd(15, '0')}` : null;
}
