/** Renders parsed Markdown as React elements: highlighted code blocks with copy, tables, lists, links that open outside. */
import { memo, useMemo, type JSX, type ReactNode } from 'react';
import { CopyButton } from '../components/copy-button';
import { highlightCode } from './highlight-code';
import { parseMarkdown, type Block, type Inline } from './parse-markdown';
import { HighlightedTokens } from '../components/highlighted-tokens';

function renderInline(nodes: Inline[]): ReactNode[] {
  return nodes.map((node, index) => {
    switch (node.type) {
      case 'text':
        return node.text;
      case 'code':
        return <code key={index} className="inline-code">{node.text}</code>;
      case 'strong':
        return <strong key={index}>{renderInline(node.children)}</strong>;
      case 'emphasis':
        return <em key={index}>{renderInline(node.children)}</em>;
      case 'strike':
        return <del key={index}>{renderInline(node.children)}</del>;
      case 'link':
        return (
          <a key={index} href={node.href} target="_blank" rel="noreferrer noopener">
            {renderInline(node.children)}
          </a>
        );
      case 'break':
        return <br key={index} />;
    }
  });
}

const CodeBlock = memo(function CodeBlock({ code, language }: { code: string; language: string }): JSX.Element {
  const tokens = useMemo(() => highlightCode(code, language), [code, language]);
  return (
    <div className="code-block">
      <div className="code-block-header">
        <span>{language || 'code'}</span>
        <CopyButton text={code} compact label="Copy code" />
      </div>
      <pre>
        <HighlightedTokens tokens={tokens} />
      </pre>
    </div>
  );
});

function renderBlocks(blocks: Block[]): ReactNode[] {
  return blocks.map((block, index) => {
    switch (block.type) {
      case 'paragraph':
        return <p key={index}>{renderInline(block.children)}</p>;
      case 'heading': {
        const level = Math.min(6, block.level + 2);
        const Tag = `h${level}` as 'h3';
        return <Tag key={index}>{renderInline(block.children)}</Tag>;
      }
      case 'code':
        return <CodeBlock key={index} code={block.code} language={block.language} />;
      case 'list': {
        const items = block.items.map((item, itemIndex) => <li key={itemIndex}>{renderBlocks(item)}</li>);
        return block.ordered ? (
          <ol key={index} start={block.start}>
            {items}
          </ol>
        ) : (
          <ul key={index}>{items}</ul>
        );
      }
      case 'quote':
        return <blockquote key={index}>{renderBlocks(block.children)}</blockquote>;
      case 'table':
        return (
          <div className="table-scroll" key={index}>
            <table>
              <thead>
                <tr>
                  {block.header.map((cell, cellIndex) => (
                    <th key={cellIndex}>{renderInline(cell)}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {block.rows.map((row, rowIndex) => (
                  <tr key={rowIndex}>
                    {row.map((cell, cellIndex) => (
                      <td key={cellIndex}>{renderInline(cell)}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        );
      case 'rule':
        return <hr key={index} />;
    }
  });
}

export const MarkdownView = memo(function MarkdownView({ source }: { source: string }): JSX.Element {
  const blocks = useMemo(() => parseMarkdown(source), [source]);
  return <div className="markdown">{renderBlocks(blocks)}</div>;
});
