/** A media source as one URL: the URL itself, a `data:` URL for inline bytes, a file id as it is. */
import type { MediaSource } from './types.js';

export function mediaUrl(source: MediaSource): string {
  switch (source.kind) {
    case 'url':
      return source.url;
    case 'base64':
      return `data:${source.mediaType};base64,${source.data}`;
    case 'file-id':
      return source.fileId;
  }
}
