-- How each response was collected (chorus_core::mode codes: online, sms, qr, tablet, paper,
-- telephone, other). Every response stored before this was online: the embed was the only
-- channel.
ALTER TABLE responses ADD COLUMN mode TEXT NOT NULL DEFAULT 'online';
