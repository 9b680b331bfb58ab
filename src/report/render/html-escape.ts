// Escaping for HTML text and attribute values. Every piece of data in the HTML report passes here:
// ARNs, user agents and error messages come from CloudTrail records, which callers control.

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: unknown): string {
  if (value === null || value === undefined) return '';
  return String(value).replace(/[&<>"']/g, (c) => ENTITIES[c]);
}
