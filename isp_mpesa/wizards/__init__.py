from . import isp_mpesa_request
