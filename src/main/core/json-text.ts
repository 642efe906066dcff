/**
 * A JSON object's text up to its last member, without its closing brace (and the blanks
 * before it): `{"a":1}` → `{"a":1`. Null for a text that is no object with members. What a
 * member appended to an object's text goes after — and how the request log recognises such an
 * append (openai-compatible/request.ts withStreamUsage, stored-record.ts appendedMembers: the
 * two must cut the text the same way).
 */
export function objectMembersText(text: string): string | null {
  const end = text.lastIndexOf('}');
  if (end === -1) return null;
  const members = text.slice(0, end).trimEnd();
  return members.length < 2 || members.endsWith('{') ? null : members;
}
