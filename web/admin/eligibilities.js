// eligibilities.js - the backoffice's eligibilities page (eligibilities.html). A placeholder of the
// shell until its page is written: the navigation and the session only.
import {startPage} from '/admin/bo.js';

startPage('eligibilities');
