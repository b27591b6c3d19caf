-- A neutralised copy (staging, a developer's) never talks to M-PESA nor
-- believes a callback: the Daraja secrets and the cached OAuth token are
-- blanked (no call can be authenticated: the add-on sends nothing without a
-- consumer key and secret), the callback token and public URL are blanked (no
-- callback URL is valid, nothing can be registered), and every M-PESA
-- provider is disabled (its callbacks get 403).
UPDATE payment_provider
   SET mpesa_consumer_key = NULL,
       mpesa_consumer_secret = NULL,
       mpesa_passkey = NULL,
       mpesa_access_token = NULL,
       mpesa_token_expiry = NULL,
       mpesa_callback_token = NULL,
       mpesa_callback_base_url = NULL,
       mpesa_c2b_registered_on = NULL,
       mpesa_c2b_registered_version = NULL,
       state = 'disabled',
       is_published = FALSE
 WHERE code = 'mpesa';
