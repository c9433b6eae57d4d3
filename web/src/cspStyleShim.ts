// A CSP-compatible stand-in for dynamically created <style> elements.
//
// The server's Content-Security-Policy (style-src 'self') blocks inline
// <style> elements. Some libraries (xterm.js) create them to hold computed
// rules. This shim makes document.createElement('style') return an inert
// element whose text is applied through a constructable stylesheet adopted
// by the document — CSSOM, which the policy allows — so those libraries work
// without weakening the policy. Our own CSS is served as files.

const SHEETS = new WeakMap<Element, CSSStyleSheet>()

export function installStyleShim(doc: Document = document) {
  if (!('adoptedStyleSheets' in doc) || (doc as any).__nobaStyleShim) return
  ;(doc as any).__nobaStyleShim = true
  const orig = doc.createElement.bind(doc)
  ;(doc as any).createElement = function (tag: string, opts?: ElementCreationOptions) {
    if (String(tag).toLowerCase() !== 'style') return orig(tag, opts)
    const el = orig('noba-style')
    const sheet = new CSSStyleSheet()
    SHEETS.set(el, sheet)
    let text = ''
    let adopted = false
    const adopt = () => {
      if (!adopted) { doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, sheet]; adopted = true }
    }
    const drop = () => {
      if (adopted) { doc.adoptedStyleSheets = doc.adoptedStyleSheets.filter((s) => s !== sheet); adopted = false }
    }
    Object.defineProperty(el, 'textContent', {
      get: () => text,
      set: (v: string) => { text = String(v ?? ''); sheet.replaceSync(text); adopt() },
    })
    Object.defineProperty(el, 'innerHTML', {
      get: () => text,
      set: (v: string) => { text = String(v ?? ''); sheet.replaceSync(text); adopt() },
    })
    Object.defineProperty(el, 'sheet', { get: () => sheet })
    const remove = el.remove.bind(el)
    el.remove = () => { drop(); remove() }
    el.hidden = true
    return el
  }
}
