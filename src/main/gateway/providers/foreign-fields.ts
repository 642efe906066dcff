/**
 * What a request carries that only another family understands: extension fields of another
 * client format (an Anthropic client's `context_management`, its `anthropic-beta` header …),
 * tools hosted by another family (Anthropic server tools) and native parts of another family.
 * An adapter that cannot send them records one warning each, so nothing is dropped silently.
 */
import type { CoreRequest, ProviderFamily } from '../../core/types.js';
import type { RequestWarning } from '../types.js';

/** Fields that describe the client's protocol, not the request: not worth a warning. */
const PROTOCOL_FIELDS = new Set(['anthropic-version']);

export function foreignFieldWarnings(core: CoreRequest, family: ProviderFamily): RequestWarning[] {
  const warnings: RequestWarning[] = [];
  const extensions = core.extensions;
  if (extensions && extensions.family !== family) {
    for (const [key, value] of Object.entries(extensions.fields)) {
      if (value === undefined || value === null || PROTOCOL_FIELDS.has(key)) continue;
      warnings.push({ type: 'unsupported-parameter', parameter: key, message: `${key} dropped: it has no equivalent for this provider` });
    }
  }
  core.tools.forEach((tool, index) => {
    if (tool.type === 'hosted' && tool.family !== family) {
      warnings.push({ type: 'unsupported-parameter', parameter: `tools[${index}]`, message: `tools[${index}] dropped: the ${tool.family} server tool '${tool.kind}' has no equivalent for this provider` });
    }
  });
  core.messages.forEach((message, index) => {
    for (const part of message.content) {
      if (part.type === 'native' && part.family !== family) {
        warnings.push({ type: 'unsupported-parameter', parameter: `messages[${index}]`, message: `messages[${index}]: a '${part.kind}' block of the ${part.family} family dropped: it has no equivalent for this provider` });
      }
    }
  });
  return warnings;
}
