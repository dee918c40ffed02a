//! System settings: typed keys over the key/value table (filled once the settings keys land).
