// Reads results through the generated operation types the way a client would, so `tsc` fails
// when a schema change breaks a client's assumptions (a field becoming nullable, a type
// changing), not only when a document stops validating.
import type {
  FeedPageQuery,
  LikePostMutation,
  LoginMutation,
  NotificationAddedSubscription,
  ProfileQuery,
} from "../generated/operations";

export function bearer(result: LoginMutation): string {
  return `Bearer ${result.login.accessToken}`;
}

export function captions(page: FeedPageQuery): string[] {
  return page.feed.edges.map((edge) => edge.node.caption.trim());
}

export function likes(result: LikePostMutation): number {
  return result.likePost.likeCount;
}

export function followers(profile: ProfileQuery): number {
  return profile.user?.followerCount ?? 0;
}

export function notice(event: NotificationAddedSubscription): string {
  const who = event.notificationAdded.actors.map((actor) => actor.username).join(", ");
  return `${who} (${event.notificationAdded.type})`;
}
