-- pvelab schema, part 13: reading a class's pool by index.
--
-- Why a migration: every index of `vm_assignments` that starts with `class_id` is partial (slot
-- set, teacher VM, base VM, held, free), so "all VMs of class N" (the pool list, the checks made
-- when a VM is registered, a class's page) matched none of them and read the whole table. The
-- cost of registering one VM grew with every VM of every class: a lab with 100,000 pool VMs
-- registered them at a falling rate. With this index the pool of one class costs the same
-- whatever the other classes hold.
CREATE INDEX vm_assignments_class ON vm_assignments (class_id);
