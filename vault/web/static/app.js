// Custos web application: the few places that need script (uploads with
// progress, the reviewer-welfare viewer). Every page works for reading
// without it. No evidence byte is written anywhere but to a Blob in memory.
'use strict';
