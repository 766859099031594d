// Language names for players' menus, from the ISO 639 / BCP 47 tags sources carry ("fra" ->
// "French"), with Node's own ICU data: no table to keep.
const names = new Intl.DisplayNames(['en'], { type: 'language', fallback: 'code' });

/** "French" for "fra" or "fr"; the tag itself when ICU does not know it; undefined without one. */
export function languageName(tag: string | undefined): string | undefined {
  if (tag === undefined) return undefined;
  try {
    return names.of(tag) ?? tag;
  } catch {
    return tag;
  }
}
