// Every page of the front-end, by the name the router uses.
export { login, account, resetPassword } from './pages/auth.js';
export { dashboard } from './pages/dashboard.js';
export { activityList, activityForm, activityDetail, activityImport } from './pages/activities.js';
export { directory, agencyPage } from './pages/directory.js';
export { duplicates, matchModel } from './pages/duplicates.js';
export { reports, adminAgencies, editAgency, adminUsers, editUser, audit } from './pages/admin.js';
export { inbox, mailLog } from './pages/notices.js';
export { worldMap, countryPage } from './pages/places.js';
