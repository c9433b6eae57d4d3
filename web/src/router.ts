import { createRouter, createWebHistory } from 'vue-router'
import { session, loadMe } from './store'
import { getToken } from './api'

// Pages are loaded on demand so the first paint carries only the shell.
export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/login', component: () => import('./pages/Login.vue'), meta: { public: true } },
    { path: '/', component: () => import('./pages/Dashboard.vue') },
    { path: '/history', component: () => import('./pages/History.vue') },
    { path: '/agents', component: () => import('./pages/Agents.vue') },
    { path: '/agents/:host', component: () => import('./pages/AgentDetail.vue'), props: true },
    { path: '/alerts', component: () => import('./pages/Alerts.vue') },
    { path: '/monitoring/:tab?', component: () => import('./pages/Monitoring.vue'), props: true },
    { path: '/settings/:tab(backup|plugins|notifications|agent-keys)', component: () => import('./pages/SettingsAdmin.vue'), props: true },
    { path: '/dashboards', component: () => import('./pages/Dashboards.vue') },
    { path: '/settings/:tab?', component: () => import('./pages/Settings.vue'), props: true },
    { path: '/profile', component: () => import('./pages/Profile.vue') },
    { path: '/logs', component: () => import('./pages/Logs.vue') },
    { path: '/intelligence/:tab?', component: () => import('./pages/Intelligence.vue'), props: true },
    { path: '/security', component: () => import('./pages/Security.vue') },
    { path: '/automations', component: () => import('./pages/Automations.vue') },
    { path: '/healing', component: () => import('./pages/Healing.vue') },
    { path: '/:section(infrastructure)/:tab?', component: () => import('./pages/Section.vue'), props: true },
    { path: '/:pathMatch(.*)*', component: () => import('./pages/NotFound.vue') },
  ],
})

router.beforeEach(async (to) => {
  if (to.meta.public) return true
  if (!session.username && getToken()) await loadMe()
  if (!session.username) return { path: '/login', query: to.fullPath !== '/' ? { next: to.fullPath } : {} }
  return true
})
