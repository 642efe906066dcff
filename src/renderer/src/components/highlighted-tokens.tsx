/** The `<code>` of a highlighted block: one span per token, coloured by its kind. */
import type { JSX } from 'react';
import type { CodeToken } from '../markdown/highlight-code';

export function HighlightedTokens({ tokens }: { tokens: CodeToken[] }): JSX.Element {
  return (
    <code>
      {tokens.map((token, index) => (
        <span key={index} className={`token-${token.kind}`}>
          {token.text}
        </span>
      ))}
    </code>
  );
}
