/** The Responses request decoder: instructions, item grouping into turns, parts, tools. */
import { describe, expect, it } from 'vitest';
import { CUSTOM_INPUT_SCHEMA, decodeResponsesRequest } from '../../../../src/main/gateway/formats/openai-responses/decode.js';
import { encryptedContentOf, providerDataOf } from '../../../../src/main/gateway/formats/openai-responses/encode-response.js';

describe('decodeResponsesRequest', () => {
  it('instructions and leading developer messages → system; a later one stays in place', () => {
    const { core } = decodeResponsesRequest({
      model: 'm',
      instructions: 'Be terse.',
      input: [
        { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'Rules.' }] },
        { role: 'user', content: 'Hi' },
        { role: 'developer', content: 'Later.' },
      ],
    });
    expect(core.system).toEqual([
      { type: 'text', text: 'Be terse.' },
      { type: 'text', text: 'Rules.' },
    ]);
    expect(core.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
      { role: 'system', content: [{ type: 'text', text: 'Later.' }], developer: true },
    ]);
  });

  it('assistant-side items make one turn, outputs one tool turn; images and custom calls decoded', () => {
    const { core, customTools } = decodeResponsesRequest({
      model: 'm',
      tools: [{ type: 'custom', name: 'apply_patch' }, { type: 'function', name: 'f', parameters: { type: 'object' } }],
      input: [
        { role: 'user', content: [{ type: 'input_text', text: 'Look' }, { type: 'input_image', image_url: 'data:image/png;base64,AAAA', detail: 'low' }] },
        { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'Thinking.' }], encrypted_content: 'opaque' },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Calling.' }] },
        { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{"a":1}' },
        { type: 'custom_tool_call', call_id: 'c2', name: 'apply_patch', input: 'patch' },
        { type: 'function_call_output', call_id: 'c1', output: 'one' },
        { type: 'custom_tool_call_output', call_id: 'c2', output: 'two' },
      ],
    });
    expect([...customTools]).toEqual(['apply_patch']);
    expect(core.tools[0]).toEqual({ type: 'function', name: 'apply_patch', parameters: CUSTOM_INPUT_SCHEMA });
    expect(core.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'tool']);
    expect(core.messages[0]!.content[1]).toEqual({ type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: 'AAAA' }, detail: 'low' });
    expect(core.messages[1]!.content).toEqual([
      { type: 'reasoning', text: 'Thinking.', providerData: { family: 'openai', data: { encryptedContent: 'opaque', id: 'rs_1' } } },
      { type: 'text', text: 'Calling.' },
      { type: 'tool-call', id: 'c1', name: 'f', input: '{"a":1}', kind: 'function' },
      { type: 'tool-call', id: 'c2', name: 'apply_patch', input: '{"input":"patch"}', kind: 'function' },
    ]);
    expect(core.messages[2]!.content.map((part) => part.type === 'tool-result' && [part.callId, part.content])).toEqual([
      ['c1', 'one'],
      ['c2', 'two'],
    ]);
  });

  it('hosted tools are left out with a warning each', () => {
    const { core, warnings } = decodeResponsesRequest({ model: 'm', input: 'x', tools: [{ type: 'web_search' }, { type: 'function', name: 'f' }] });
    expect(core.tools.map((tool) => tool.type === 'function' && tool.name)).toEqual(['f']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toContain('web_search');
  });

  it("another family's reasoning state survives encrypted_content both ways; OpenAI's stays as it is", () => {
    const state = { family: 'anthropic' as const, data: { signature: 'sig' } };
    const carried = encryptedContentOf(state)!;
    expect(providerDataOf(carried, 'rs_1')).toEqual(state);
    expect(encryptedContentOf({ family: 'openai', data: { encryptedContent: 'enc', id: 'rs' } })).toBe('enc');
    expect(providerDataOf('enc', 'rs')).toEqual({ family: 'openai', data: { encryptedContent: 'enc', id: 'rs' } });
  });
});
