"""The dispatcher's intake screen (LEFT_MENU "dispatcher"): a call's phone → the client (contacts and
companies found by ``crm.duplicate.findbycomm``), their Equipment with the warranty left, recent deals,
and a new service request deal. No Flask here: handlers/desk.py is the HTTP edge."""
