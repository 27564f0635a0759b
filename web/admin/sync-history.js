// sync-history.js - the backoffice's sync-history page (sync-history.html). A placeholder of the
// shell until its page is written: the navigation and the session only.
import {startPage} from '/admin/bo.js';

startPage('sync-history');
