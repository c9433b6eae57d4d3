// Applies the saved theme before the first paint (an external file: the
// Content-Security-Policy forbids inline scripts).
(function () {
  try {
    var t = localStorage.getItem('noba.theme') || 'system'
    if (t === 'system') t = window.matchMedia && window.matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark'
    document.documentElement.setAttribute('data-theme', t)
  } catch (e) { document.documentElement.setAttribute('data-theme', 'dark') }
})()
