window.YTD.profile.part0 = [
  {
    "profile" : {
      "description" : {
        "bio" : "Bread, a squeaky bike, a cat called Biscuit and the pigeons of my balcony. A fictional demo account: every post here was written for huggingtweets.",
        "website" : "",
        "location" : ""
      },
      "avatarMediaUrl" : "https://pbs.twimg.com/profile_images/1498023294532641959/Wr3nB1rd.png",
      "headerMediaUrl" : ""
    }
  }
]