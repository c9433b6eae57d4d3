import { createApp } from 'vue'
import './styles.css'
import App from './App.vue'
import { router } from './router'
import { installStyleShim } from './cspStyleShim'
import { setUnauthorizedHandler } from './api'
import { clearSession, ui, applyTheme } from './store'

installStyleShim()
// Follow the system theme live when the user chose "system".
matchMedia('(prefers-color-scheme: light)').addEventListener('change', () => { if (ui.theme === 'system') applyTheme('system') })
setUnauthorizedHandler(() => {
  clearSession()
  const here = router.currentRoute.value
  if (!here.meta.public) router.push({ path: '/login', query: { next: here.fullPath, expired: '1' } })
})
createApp(App).use(router).mount('#app')
