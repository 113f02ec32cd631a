window.YTD.account.part0 = [
  {
    "account" : {
      "email" : "demo@example.com",
      "createdVia" : "web",
      "username" : "wrencrumb",
      "accountId" : "1498020392075507779",
      "createdAt" : "2022-02-27T19:41:08.000Z",
      "accountDisplayName" : "Wren Crumb"
    }
  }
]