/**
 * A compact Markdown parser for model replies: fenced code (an unclosed fence while
 * streaming is still a code block), headings, lists, block quotes, tables, rules and
 * paragraphs; inline code, bold, italic, strikethrough and links. It builds a tree the
 * view renders as React elements — never HTML strings — so a reply cannot inject markup.
 */
export type Inline =
  | { type: 'text'; text: string }
  | { type: 'code'; text: string }
  | { type: 'strong' | 'emphasis' | 'strike'; children: Inline[] }
  | { type: 'link'; href: string; children: Inline[] }
  | { type: 'break' };

export type Block =
  | { type: 'paragraph'; children: Inline[] }
  | { type: 'heading'; level: number; children: Inline[] }
  | { type: 'code'; language: string; code: string; closed: boolean }
  | { type: 'list'; ordered: boolean; start: number; items: Block[][] }
  | { type: 'quote'; children: Block[] }
  | { type: 'table'; header: Inline[][]; rows: Inline[][][] }
  | { type: 'rule' };

const FENCE = /^\s{0,3}(`{3,}|~{3,})\s*([\w+#.-]*)/;
const LIST_ITEM = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/;

export function parseMarkdown(source: string): Block[] {
  return parseBlocks(source.replace(/\r\n?/g, '\n').split('\n'));
}

function parseBlocks(lines: string[]): Block[] {
  const blocks: Block[] = [];
  let index = 0;
  while (index < lines.length) {
    const line = lines[index] as string;
    if (line.trim() === '') {
      index += 1;
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      const marker = fence[1] as string;
      const body: string[] = [];
      index += 1;
      let closed = false;
      while (index < lines.length) {
        if ((lines[index] as string).trim().startsWith(marker)) {
          closed = true;
          index += 1;
          break;
        }
        body.push(lines[index] as string);
        index += 1;
      }
      blocks.push({ type: 'code', language: fence[2] ?? '', code: body.join('\n'), closed });
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      blocks.push({ type: 'heading', level: (heading[1] as string).length, children: parseInline((heading[2] as string).replace(/\s+#+\s*$/, '')) });
      index += 1;
      continue;
    }
    if (/^\s{0,3}([-*_])(\s*\1){2,}\s*$/.test(line)) {
      blocks.push({ type: 'rule' });
      index += 1;
      continue;
    }
    if (/^\s{0,3}>/.test(line)) {
      const quoted: string[] = [];
      while (index < lines.length && /^\s{0,3}>/.test(lines[index] as string)) {
        quoted.push((lines[index] as string).replace(/^\s{0,3}>\s?/, ''));
        index += 1;
      }
      blocks.push({ type: 'quote', children: parseBlocks(quoted) });
      continue;
    }
    if (line.includes('|') && index + 1 < lines.length && /^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$/.test(lines[index + 1] as string)) {
      const header = splitRow(line).map(parseInline);
      index += 2;
      const rows: Inline[][][] = [];
      while (index < lines.length && (lines[index] as string).includes('|') && (lines[index] as string).trim() !== '') {
        rows.push(splitRow(lines[index] as string).map(parseInline));
        index += 1;
      }
      blocks.push({ type: 'table', header, rows });
      continue;
    }
    const item = LIST_ITEM.exec(line);
    if (item) {
      const ordered = /\d/.test(item[2] as string);
      const indent = (item[1] as string).length;
      const items: Block[][] = [];
      let current: string[] = [];
      const start = ordered ? Number.parseInt(item[2] as string, 10) : 1;
      while (index < lines.length) {
        const candidate = lines[index] as string;
        const next = LIST_ITEM.exec(candidate);
        if (next && (next[1] as string).length <= indent && /\d/.test(next[2] as string) === ordered) {
          if (current.length > 0) items.push(parseBlocks(current));
          current = [next[3] as string];
          index += 1;
          continue;
        }
        if (candidate.trim() === '') {
          const following = lines[index + 1];
          if (following === undefined || (!/^\s+/.test(following) && !LIST_ITEM.test(following))) break;
          current.push('');
          index += 1;
          continue;
        }
        if (/^\s+/.test(candidate) || (!next && current.length > 0 && !FENCE.test(candidate) && !/^#{1,6}\s/.test(candidate))) {
          if (!/^\s+/.test(candidate) && next === null && lines[index - 1]?.trim() === '') break;
          current.push(candidate.replace(new RegExp(`^\\s{0,${indent + 4}}`), ''));
          index += 1;
          continue;
        }
        break;
      }
      if (current.length > 0) items.push(parseBlocks(current));
      blocks.push({ type: 'list', ordered, start, items });
      continue;
    }
    const paragraph: string[] = [];
    while (index < lines.length) {
      const candidate = lines[index] as string;
      if (candidate.trim() === '' || FENCE.test(candidate) || /^#{1,6}\s/.test(candidate) || /^\s{0,3}>/.test(candidate) || (paragraph.length > 0 && LIST_ITEM.test(candidate))) break;
      paragraph.push(candidate);
      index += 1;
    }
    blocks.push({ type: 'paragraph', children: parseInline(paragraph.join('\n')) });
  }
  return blocks;
}

function splitRow(line: string): string[] {
  return line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split('|')
    .map((cell) => cell.trim());
}

export function safeHref(href: string): string | null {
  return /^(https?:|mailto:)/i.test(href.trim()) ? href.trim() : null;
}

export function parseInline(text: string): Inline[] {
  const nodes: Inline[] = [];
  let buffer = '';
  const flush = (): void => {
    if (buffer) nodes.push({ type: 'text', text: buffer });
    buffer = '';
  };
  let index = 0;
  while (index < text.length) {
    const rest = text.slice(index);
    const character = text[index] as string;
    if (character === '\\' && index + 1 < text.length && /[\\`*_{}[\]()#+\-.!~|]/.test(text[index + 1] as string)) {
      buffer += text[index + 1];
      index += 2;
      continue;
    }
    if (character === '`') {
      const ticks = /^`+/.exec(rest)![0];
      const end = text.indexOf(ticks, index + ticks.length);
      if (end !== -1) {
        flush();
        nodes.push({ type: 'code', text: text.slice(index + ticks.length, end).replace(/^ (.*) $/, '$1') });
        index = end + ticks.length;
        continue;
      }
    }
    if (character === '\n') {
      flush();
      nodes.push({ type: 'break' });
      index += 1;
      continue;
    }
    const strong = /^(\*\*|__)(?=\S)([\s\S]*?\S)\1/.exec(rest);
    if (strong) {
      flush();
      nodes.push({ type: 'strong', children: parseInline(strong[2] as string) });
      index += strong[0].length;
      continue;
    }
    const strike = /^~~(?=\S)([\s\S]*?\S)~~/.exec(rest);
    if (strike) {
      flush();
      nodes.push({ type: 'strike', children: parseInline(strike[1] as string) });
      index += strike[0].length;
      continue;
    }
    const emphasis = /^([*_])(?=\S)([\s\S]*?\S)\1(?![\w*])/.exec(rest);
    if (emphasis && (character === '*' || !/\w/.test(text[index - 1] ?? ''))) {
      flush();
      nodes.push({ type: 'emphasis', children: parseInline(emphasis[2] as string) });
      index += emphasis[0].length;
      continue;
    }
    const link = /^\[([^\]]+)\]\(([^)\s]+)(?:\s+"[^"]*")?\)/.exec(rest);
    if (link) {
      const href = safeHref(link[2] as string);
      flush();
      if (href) nodes.push({ type: 'link', href, children: parseInline(link[1] as string) });
      else nodes.push(...parseInline(link[1] as string));
      index += link[0].length;
      continue;
    }
    const url = /^https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"]/.exec(rest);
    if (url && !/\w/.test(text[index - 1] ?? '')) {
      flush();
      nodes.push({ type: 'link', href: url[0], children: [{ type: 'text', text: url[0] }] });
      index += url[0].length;
      continue;
    }
    buffer += character;
    index += 1;
  }
  flush();
  return nodes;
}
