-- pvelab schema, part 14: class names compared without regard to letter case.
--
-- Why: "Net101" and "net101" in one server are two classes that people cannot tell apart when
-- they type `/join` or `/myvm class:`. A new name is checked against the scope's names ignoring
-- ASCII case (SQLite's NOCASE), and a name typed in another case finds its class. This index
-- makes both lookups an index search. It is not UNIQUE: a database may already hold names that
-- differ only in case, and those stay reachable by their exact name.
CREATE INDEX classes_scope_name_nocase ON classes (scope_id, name COLLATE NOCASE);
