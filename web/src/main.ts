import { createApp } from 'vue'
import './styles.css'
import App from './App.vue'
import { router } from './router'
import { installStyleShim } from './cspStyleShim'
import { setUnauthorizedHandler } from './api'
import { clearSession } from './store'

installStyleShim()
setUnauthorizedHandler(() => {
  clearSession()
  const here = router.currentRoute.value
  if (!here.meta.public) router.push({ path: '/login', query: { next: here.fullPath, expired: '1' } })
})
createApp(App).use(router).mount('#app')
