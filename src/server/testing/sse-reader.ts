/** Reads Server-Sent Events from a fetch Response, for tests. */

export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

/**
 * Parses events as they arrive; `next()` resolves with the next one, or null at the end.
 * `comments()` is how many comment lines (`: heartbeat`) were skipped so far.
 */
export function sseReader(res: Response): { next(): Promise<SseEvent | null>; cancel(): Promise<void>; comments(): number } {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let comments = 0;
  return {
    async next() {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event: SseEvent = { event: 'message', data: '' };
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) {
              comments++;
              continue;
            }
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'event') event.event = value;
            else if (field === 'data') data.push(value);
            else if (field === 'id') event.id = value;
          }
          if (!data.length && event.event === 'message') continue;
          event.data = data.join('\n');
          return event;
        }
        const { done, value } = await reader.read();
        if (done) return null;
        buffer += decoder.decode(value, { stream: true });
      }
    },
    cancel: () => reader.cancel(),
    comments: () => comments,
  };
}
