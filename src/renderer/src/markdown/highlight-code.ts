/**
 * A small syntax highlighter for code blocks in replies: strings, comments, numbers,
 * keywords and function names for the C-like languages, Python, shell and JSON. Enough
 * to make code readable at a glance; a full grammar library would cost the bundle more
 * than it gives here. Returns tokens, never HTML.
 */
export interface CodeToken {
  text: string;
  kind: 'plain' | 'keyword' | 'string' | 'comment' | 'number' | 'function' | 'literal';
}

const KEYWORDS = new Set(
  (
    'const let var function return if else for while do switch case break continue new class extends implements interface type enum ' +
    'import export from as default async await yield try catch finally throw typeof instanceof in of void delete public private protected ' +
    'static readonly def lambda pass with elif except raise global nonlocal and or not is print fn mut pub impl struct trait use mod match ' +
    'loop where package func go defer chan select range map struct var echo then fi done esac local'
  ).split(' '),
);
const LITERALS = new Set(['true', 'false', 'null', 'undefined', 'None', 'True', 'False', 'nil', 'this', 'self']);

function commentPattern(language: string): string {
  if (['python', 'py', 'bash', 'sh', 'shell', 'zsh', 'yaml', 'yml', 'toml', 'ruby', 'rb'].includes(language)) return '#[^\\n]*';
  if (language === 'sql') return '--[^\\n]*';
  if (language === 'json') return '(?!)';
  return '\\/\\/[^\\n]*|\\/\\*[\\s\\S]*?\\*\\/';
}

export function highlightCode(code: string, language: string): CodeToken[] {
  const lang = language.toLowerCase();
  const pattern = new RegExp(
    `(${commentPattern(lang)})|("(?:[^"\\\\\\n]|\\\\.)*"|'(?:[^'\\\\\\n]|\\\\.)*'|\`(?:[^\`\\\\]|\\\\.)*\`)|(\\b\\d+(?:\\.\\d+)?(?:e[+-]?\\d+)?\\b)|([A-Za-z_$][\\w$]*)`,
    'g',
  );
  const tokens: CodeToken[] = [];
  let last = 0;
  const push = (text: string, kind: CodeToken['kind']): void => {
    if (text.length === 0) return;
    const previous = tokens[tokens.length - 1];
    if (previous && previous.kind === kind) previous.text += text;
    else tokens.push({ text, kind });
  };
  for (let match = pattern.exec(code); match; match = pattern.exec(code)) {
    if (match[0].length === 0) {
      pattern.lastIndex += 1;
      continue;
    }
    push(code.slice(last, match.index), 'plain');
    if (match[1]) push(match[1], 'comment');
    else if (match[2]) push(match[2], 'string');
    else if (match[3]) push(match[3], 'number');
    else if (match[4]) {
      const word = match[4];
      const next = code.slice(pattern.lastIndex).match(/^\s*\(/);
      push(word, KEYWORDS.has(word) && lang !== 'json' ? 'keyword' : LITERALS.has(word) ? 'literal' : next ? 'function' : 'plain');
    }
    last = pattern.lastIndex;
  }
  push(code.slice(last), 'plain');
  return tokens;
}
