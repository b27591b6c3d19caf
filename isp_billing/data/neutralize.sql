-- isp_billing: a neutralised copy (staging, tests) sends no SMS through the
-- ISP's own Africa's Talking account: back to Odoo's SMS (IAP, whose token
-- the iap module disables) and no key or endpoint left.
UPDATE res_company
   SET isp_sms_gateway = 'odoo',
       isp_sms_at_api_key = NULL,
       isp_sms_at_base_url = NULL
 WHERE isp_sms_gateway IS DISTINCT FROM 'odoo'
    OR isp_sms_at_api_key IS NOT NULL
    OR isp_sms_at_base_url IS NOT NULL;
