-- "Ended from the bot's side: the customer left" is an activity line when Baton's
-- integration stops a handoff (stopHitl says why).
alter table ticket_activity drop constraint ticket_activity_action_check;
alter table ticket_activity add constraint ticket_activity_action_check check (action in
    ('took', 'took_over', 'transferred', 'handed_back', 'reopened', 'resent',
     'labelled', 'unlabelled', 'routed', 'returned', 'bot_ended'));
