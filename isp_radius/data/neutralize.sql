-- A neutralised copy never reaches the live network: no FreeRADIUS database
-- to push to, no CoA / Disconnect, no NAS secret, and none of the production
-- database's pending network changes.
UPDATE res_company
   SET isp_radius_dsn = NULL,
       isp_radius_coa_enabled = false;

UPDATE isp_radius_nas
   SET secret = '';

DELETE FROM isp_radius_outbox;
