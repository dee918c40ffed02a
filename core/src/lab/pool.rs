//! The pool through the facade: registering VMs (until the orchestration layer creates them),
//! reimage bookkeeping, teacher assignment, and "my VMs".

use super::join::promote_waitlist;
use super::{events, Lab};
use crate::error::{Entity, Error, Result};
use crate::rules::permissions::{authorize, Action, Actor, ClassRelation};
use crate::store::enrollment;
use crate::store::pool::{self, NewPoolVm, PoolVm};
use crate::store::users::User;
use crate::store::waitlist;
use crate::types::{ClassId, UserId, VmRef};

impl Lab {
    /// Registers a VM in the class's pool as available (the class's teachers and adminers). A
    /// planned VM's role follows from its VMID in the class's plan (teacher, base or a student
    /// slot); a new student slot immediately serves the waitlist.
    ///
    /// A manually added VM (handed out only by a teacher's choice) must lie outside every other
    /// class's VMID range, and never on the class's own teacher or base VMID.
    ///
    /// # Errors
    /// [`Error::NotPermitted`]; [`Error::InvalidValue`] for a VMID outside the plan, or a manual
    /// VM on the class's teacher or base VMID; [`Error::VmidOfAnotherClass`] for a manual VM in
    /// another class's range; [`Error::VmRegistered`] when already registered;
    /// [`Error::NotFound`] for an unknown cluster.
    pub async fn register_vm(
        &self,
        actor: &Actor,
        class: ClassId,
        vm: NewPoolVm,
    ) -> Result<PoolVm> {
        let (registered, announced) = self
            .class_write(actor, Action::ResizePool, class, move |tx, stored| {
                crate::store::clusters::get(tx, &vm.cluster_id)?;
                let registered = pool::register(tx, class, stored.scheme, &vm)?;
                let promoted = promote_waitlist(tx, class)?;
                let announced = events::announce_assignments(tx, class, &stored.name, &promoted)?;
                let registered = pool::in_class(tx, class, &registered.vm_ref())?;
                Ok((registered, announced))
            })
            .await?;
        self.wake_consumers(announced);
        Ok(registered)
    }

    /// Records that a VM released by a student was reimaged: it becomes free and the waitlist is
    /// served first. Its own running hours start from zero; the usage of the students who held
    /// it is theirs and stays.
    ///
    /// # Errors
    /// [`Error::NotPermitted`]; [`Error::NotFound`]; [`Error::VmHeld`] when a student holds it.
    pub async fn mark_reimaged(&self, actor: &Actor, class: ClassId, vm: &VmRef) -> Result<PoolVm> {
        let vm = vm.clone();
        let (vm, announced) = self
            .class_write(actor, Action::ResizePool, class, move |tx, stored| {
                pool::mark_reimaged(tx, class, &vm)?;
                let promoted = promote_waitlist(tx, class)?;
                let announced = events::announce_assignments(tx, class, &stored.name, &promoted)?;
                Ok((pool::in_class(tx, class, &vm)?, announced))
            })
            .await?;
        self.wake_consumers(announced);
        Ok(vm)
    }

    /// Marks an unassigned VM as being deleted (shrinking the pool); it is never handed out.
    ///
    /// # Errors
    /// [`Error::NotPermitted`]; [`Error::NotFound`]; [`Error::VmHeld`] when a student holds it.
    pub async fn mark_deleting(&self, actor: &Actor, class: ClassId, vm: &VmRef) -> Result<PoolVm> {
        let vm = vm.clone();
        self.class_write(actor, Action::ResizePool, class, move |tx, _class| {
            pool::mark_deleting(tx, class, &vm)
        })
        .await
    }

    /// A teacher gives a student a VM: the given one, or the lowest free student VM within the
    /// pool size. The student is enrolled if they were not, and leaves the waitlist.
    ///
    /// # Errors
    /// [`Error::NotPermitted`]; [`Error::AlreadyHoldsVm`] when the student already holds a VM
    /// here; [`Error::VmNotAssignable`] when the chosen VM is not free for students;
    /// [`Error::NoFreeVm`]; [`Error::NotFound`] for an unknown student or VM.
    pub async fn assign(
        &self,
        actor: &Actor,
        class: ClassId,
        student: UserId,
        vm: Option<&VmRef>,
    ) -> Result<PoolVm> {
        let chosen = vm.cloned();
        self.class_write(actor, Action::AssignVm, class, move |tx, stored| {
            crate::store::users::get(tx, student)?;
            if let Some(held) = pool::held(tx, class, student)? {
                return Err(Error::AlreadyHoldsVm { vmid: held.vmid });
            }
            enrollment::enroll(tx, student, class)?;
            let vm = match &chosen {
                Some(vm) => pool::assign_specific(tx, class, stored.pool_size, vm, student)?,
                None => pool::assign_next_free(tx, class, student)?.ok_or(Error::NoFreeVm)?,
            };
            waitlist::remove(tx, class, student)?;
            Ok(vm)
        })
        .await
    }

    /// A teacher takes a student's VM back; it waits for a reimage before anyone else gets it.
    /// The student stays enrolled. Returns the released VM.
    ///
    /// # Errors
    /// [`Error::NotPermitted`]; [`Error::NotFound`] when the student holds no VM here.
    pub async fn unassign(&self, actor: &Actor, class: ClassId, student: UserId) -> Result<PoolVm> {
        self.class_write(actor, Action::AssignVm, class, move |tx, _class| {
            pool::release(tx, class, student)?.ok_or_else(|| {
                Error::not_found(
                    Entity::Vm,
                    format!("held by user {student} in class {class}"),
                )
            })
        })
        .await
    }

    /// Every VM of the class's pool (the class's teachers and adminers).
    ///
    /// # Errors
    /// [`Error::NotPermitted`].
    pub async fn pool(&self, actor: &Actor, class: ClassId) -> Result<Vec<PoolVm>> {
        self.class_read(actor, Action::ListStudents, class, move |tx, _class| {
            pool::list(tx, class)
        })
        .await
    }

    /// The class's waitlist in order, with the time each student joined it (the class's
    /// teachers and adminers).
    ///
    /// # Errors
    /// [`Error::NotPermitted`].
    pub async fn waitlist(
        &self,
        actor: &Actor,
        class: ClassId,
    ) -> Result<Vec<(User, jiff::Timestamp)>> {
        self.class_read(actor, Action::ListStudents, class, move |tx, _class| {
            waitlist::list(tx, class)
        })
        .await
    }

    /// The VMs the actor holds, across classes.
    ///
    /// # Errors
    /// [`Error::Internal`] when SQLite fails.
    pub async fn my_vms(&self, actor: &Actor) -> Result<Vec<PoolVm>> {
        authorize(actor, Action::ViewOwnVms, ClassRelation::None)?;
        let user = actor.person(Action::ViewOwnVms)?;
        self.db().read(move |tx| pool::held_by_user(tx, user)).await
    }

    /// The classes whose waitlist the actor is on, with their 1-based place there (1: the next
    /// VM that frees up is theirs), so a student who joined a full class hears where they stand.
    ///
    /// # Errors
    /// [`Error::Internal`] when SQLite fails.
    pub async fn my_waitlist_places(&self, actor: &Actor) -> Result<Vec<(ClassId, u32)>> {
        authorize(actor, Action::ViewOwnVms, ClassRelation::None)?;
        let user = actor.person(Action::ViewOwnVms)?;
        self.db()
            .read(move |tx| crate::store::waitlist::places_of(tx, user))
            .await
    }
}
