/**
 * One XState actor that a model-based test can replace (a restore from a persisted snapshot stops the old
 * actor and starts a new one from the snapshot).
 */
import { createActor, type AnyActorLogic, type AnyActorRef } from 'xstate';

export class ActorSlot {
  actor!: AnyActorRef;
  constructor(private readonly logic: AnyActorLogic) {}

  start(options: Parameters<typeof createActor>[1]): AnyActorRef {
    this.actor?.stop();
    this.actor = createActor(this.logic, options);
    this.actor.start();
    return this.actor;
  }
}
