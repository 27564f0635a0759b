// users.js - the backoffice's users page (users.html). A placeholder of the shell until its
// page is written: the navigation and the session only.
import {startPage} from '/admin/bo.js';

startPage('users');
