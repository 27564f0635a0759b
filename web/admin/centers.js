// centers.js - the backoffice's centers page (centers.html). A placeholder of the shell until its
// page is written: the navigation and the session only.
import {startPage} from '/admin/bo.js';

startPage('centers');
